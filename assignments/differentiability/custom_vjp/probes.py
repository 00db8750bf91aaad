# placeholder: this question is being written
